import sys

print("CYPKG", __name__, __package__, sys.argv[1:])
