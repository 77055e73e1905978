"""Cases for the robustness suite (tests/test_robustness.py): one module of cases per group."""
