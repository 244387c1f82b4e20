-- Purpose: the shelf life of the items a bulk chunk creates lots of (a lot without an expiry gets
--   manufactured or received time + shelf life, as lots.create_lots does).
-- Parameters: ids uuid[].
-- Output: id, shelf_life_days.
SELECT id, shelf_life_days FROM items WHERE id = ANY (%(ids)s::uuid[])
