"""Background jobs: queue- and timer-triggered functions, one module per job family, each exposing `bp`.

Like the HTTP blueprints they are thin adapters: the work lives in `shared/<domain>/service.py`.
"""
