"""Privacy: personal data exports, erasure, retention policies per domain, and the registry every domain declares
its personal data in (see ``api.privacy.registry``)."""
