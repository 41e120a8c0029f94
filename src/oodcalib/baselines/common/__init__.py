"""Parts shared by several calibrators.

Temperature networks, the augmented training sampler, the learned-temperature training
loop and the test-time passes.
"""
