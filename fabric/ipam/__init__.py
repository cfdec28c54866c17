"""The IPAM stage: address and number pools (pools), the stored allocations
(state), allocation against the model (allocate), renames and renumbering
(moves), and the `fabric ipam show` table (report)."""

STATE_FILE = "ipam.yaml"     # in the state directory beside the model
