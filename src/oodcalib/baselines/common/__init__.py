"""Parts shared by several calibrators.

Temperature networks, the augmented training sampler, the learned-temperature training
loop, the test-time passes and the seeded calibration pixels of TS, IR and Platt.
"""
