"""Network pieces every model kind builds from: which recurrent cell an architecture uses, and the shared
Keras layers (the cells by name, additive attention pooling). Imports nothing of recur but core."""
