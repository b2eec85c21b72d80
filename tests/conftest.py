"""Import the collection by its real name (tests/farm.py) for every test."""

import farm

farm.link()
