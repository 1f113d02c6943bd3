"""Availability search: free beds for a stay, near a place or in listed facilities, for a person."""

from respite.availability.model import AvailabilityPage, AvailabilityQuery, SearchParams
from respite.availability.service import Clock, SearchResult, search_availability, search_today

__all__ = [
    "AvailabilityPage",
    "AvailabilityQuery",
    "Clock",
    "SearchParams",
    "SearchResult",
    "search_availability",
    "search_today",
]
