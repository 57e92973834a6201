"""Learners for the structured env: REINFORCE (`reinforce`) and a contextual elicitation bandit (`bandit`).

numpy only; the scripts in ``scripts/`` run them and save learning curves.
"""
