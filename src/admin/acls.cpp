// Admin: acls (to be written).
