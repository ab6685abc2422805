import os
import sys

# test modules share small helper modules (e.g. the straight-line case table) by plain import
sys.path.insert(0, os.path.dirname(__file__))
