// asiokafka::Admin against the rig: acls (to be written).
