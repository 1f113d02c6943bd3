"""Booking: holds in Redis, bookings in PostgreSQL, and the life cycle of a stay on site.

Kept free of imports so that ``respite.problems`` can import ``booking.errors`` and the holds
module can be used without pulling in the services.
"""

__all__: list[str] = []
