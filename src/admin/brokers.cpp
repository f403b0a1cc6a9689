// Admin: brokers (to be written).
