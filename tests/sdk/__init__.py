"""The real SDK clients, unchanged, against a real ``pollsim serve``."""
