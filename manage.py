#!/usr/bin/env python
from consortium_hub.cli import main

if __name__ == "__main__":
    main()
