"""Jiesu (接诉)'s case core: the case model (`domain`), the service layer (`service`), the event contract
(`contract`), storage (`adapters`, `migrations`), the read side (`reads`), settings and their composition
(`bootstrap`)."""
