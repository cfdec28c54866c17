"""The deploy stage: where devices are (targets), what would change on each (plan),
the staged push with confirm timer and rollback (rollout, lock), and what a push
needs (credentials, secrets, drivers); the node deployer (nodes)."""
