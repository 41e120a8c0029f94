"""The network under test.

2D U-Net, training losses (``LOSSES``), augmentation, training and inference. Modules are
imported one at a time; nothing here knows about calibrators.
"""
