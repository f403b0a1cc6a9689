// Admin: scram (to be written).
