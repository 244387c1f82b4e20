"""Recall execution: cases, targets, trace runs, actions that move stock, customer notices."""
