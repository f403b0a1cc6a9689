// Admin: records (to be written).
