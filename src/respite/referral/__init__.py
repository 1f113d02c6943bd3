"""Referral hospitals: hospital clients and credentials, discharge referrals, and their status
callbacks (webhooks) with the outbox they are delivered from.

Kept free of imports: ``booking`` writes referral events through ``referral.outbox``, and the
referral services import booking in turn.
"""

__all__: list[str] = []
