"""YAML policies: who may call which RPC, with which assets and amounts, and how much money may
leave per window. See docs/policies.md.

    reload.load(path, context)  reads and checks a policy; a snapshot if it has no errors
    reload.active()             (hash, loaded_at) of this process's active policy, for metrics
"""
