-- What a family and a hospital need to know about a facility, in the facility's own words:
-- when visitors may come, what its nightly price includes, and the care it offers beyond
-- what its beds' capabilities say. Staff of the facility keep them (they are its desk's
-- knowledge, like its phone); every signed-in caller reads them on its profile.
ALTER TABLE facilities
    ADD COLUMN visiting_hours text NOT NULL DEFAULT '' CHECK (length(visiting_hours) <= 200),
    ADD COLUMN price_includes text NOT NULL DEFAULT '' CHECK (length(price_includes) <= 500),
    ADD COLUMN description text NOT NULL DEFAULT '' CHECK (length(description) <= 1000);
