"""YAML policies: who may call which RPC, with which assets and amounts, and how much money may
leave per window. See docs/policies.md.

    load(path, context)   reads and checks a policy; a snapshot if it has no errors
    active()              (hash, loaded_at) of this process's active policy, for metrics
"""

from sidecar.policy.reload import LoadResult, active, load

__all__ = ["LoadResult", "active", "load"]
