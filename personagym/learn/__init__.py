"""Learners: REINFORCE (`reinforce`) and a contextual elicitation bandit (`bandit`) for the structured env,
and the GRPO data flow for LLM policies on the chat env (`grpo`).

`reinforce` and `bandit` are numpy only; `grpo` needs an LLM backend.  The
scripts in ``scripts/`` run them and save learning curves or batches.  Their
argument checks are `personagym.checks` (configs may be given as dicts of their fields).
"""
