// Admin: configs (to be written).
