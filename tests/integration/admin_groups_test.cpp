// asiokafka::Admin against the rig: groups (to be written).
