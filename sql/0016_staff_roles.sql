-- Roles inside a facility (issue #15): a manager runs the facility's beds and its team; front
-- desk staff run the day (arrivals, departures, walk-ins, blocks). What each may do is written
-- in src/respite/auth/staff_roles.py and DESIGN.md; the database only keeps that every staff
-- account has exactly one of them. Staff accounts made before roles existed were all the
-- facility's own operators: they become managers.
ALTER TABLE principals ADD COLUMN staff_role text CHECK (staff_role IN ('manager', 'front_desk'));
UPDATE principals SET staff_role = 'manager' WHERE role = 'staff';
ALTER TABLE principals ADD CONSTRAINT principals_staff_role_of_staff
    CHECK ((role = 'staff') = (staff_role IS NOT NULL));
