// Admin: quotas (to be written).
