"""SQL of holds: the free beds of a facility with the claims around a stay."""

# Free beds of one kind in one facility for [$3, $4), each with the last claimed night before
# the stay and the first one after it (two probes of the bed_nights primary key per bed).
SELECT_FREE_GAPS = """
SELECT b.id,
       (SELECT max(n.night) FROM bed_nights n
        WHERE n.bed_id = b.id AND n.night < $3) AS previous_claim,
       (SELECT min(n.night) FROM bed_nights n
        WHERE n.bed_id = b.id AND n.night >= $4) AS next_claim
FROM beds b
JOIN facilities f ON f.id = b.facility_id AND f.active
WHERE b.facility_id = $1 AND b.kind = $2 AND b.active
  AND NOT EXISTS (
      SELECT 1 FROM bed_nights n WHERE n.bed_id = b.id AND n.night >= $3 AND n.night < $4)
"""

SELECT_FACILITY_EXISTS = "SELECT 1 FROM facilities WHERE id = $1 AND active"

# The facility's clock decides what "today" is for a bed; an unknown bed reads as UTC here and
# is refused by the eligibility check that follows.
SELECT_BED_TIMEZONE = """
SELECT f.timezone FROM beds b JOIN facilities f ON f.id = b.facility_id WHERE b.id = $1
"""
