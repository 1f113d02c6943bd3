"""respite: booking service for respite beds and home-care beds."""

__version__ = "0.1.0"
