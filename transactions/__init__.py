"""Transactions: the models arrive with the transactions issue."""
