"""Learners: REINFORCE (`reinforce`) and a contextual elicitation bandit (`bandit`) for the structured env,
the GRPO data flow for LLM policies on the chat env (`grpo`), and GRPO's gradient steps on a
``transformers`` model (`grpo_torch`).

`reinforce` and `bandit` are numpy only; `grpo` needs an LLM backend; `grpo_torch` needs torch and
transformers (the ``local`` extra), imported when its policy is made.  The
scripts in ``scripts/`` run them and save learning curves or batches.  Their
argument checks are `personagym.checks` (configs may be given as dicts of their fields).
"""
