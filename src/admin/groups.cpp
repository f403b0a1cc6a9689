// Admin: groups (to be written).
