"""The fault suite (`make faults`): the whole system under load while processes and the
broker are killed and restarted; afterwards every accepted request must have had its
effects exactly once. See bench/faults/run.py and README.md."""
