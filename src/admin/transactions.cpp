// Admin: transactions (to be written).
