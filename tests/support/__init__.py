"""Helpers shared by test modules: a real `copbot serve` process (`tests.support.serve`)."""
