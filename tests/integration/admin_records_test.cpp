// asiokafka::Admin against the rig: records (to be written).
