"""Faust agents: short loops that hand each message to the processor and never raise."""
