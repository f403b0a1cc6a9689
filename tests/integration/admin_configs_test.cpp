// asiokafka::Admin against the rig: configs (to be written).
