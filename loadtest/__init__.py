"""`make loadtest`: simulated learners (locustfile.py) against the production topology, run by run.py."""
