// Python stand-ins for nanopq's classes at their module paths (nanopq.pq.PQ,
// nanopq.opq.OPQ), so that tests can write and load pickles of them with
// /usr/bin/python3 and numpy alone: the objects get the __dict__ that nanopq 0.2
// sets. The script's first argument is a directory for the modules.
const NANOPQ_STAND_IN = `
import sys, os, json, base64, pickle, types
import numpy as np
stand = os.path.join(sys.argv[1], 'stand')
for name, body in {'__init__.py': 'from .pq import PQ\\nfrom .opq import OPQ\\n',
                   'pq.py': 'class PQ:\\n    pass\\n', 'opq.py': 'class OPQ:\\n    pass\\n'}.items():
    os.makedirs(os.path.join(stand, 'nanopq'), exist_ok=True)
    with open(os.path.join(stand, 'nanopq', name), 'w') as f:
        f.write(body)
sys.path.insert(0, stand)
from nanopq.pq import PQ
from nanopq.opq import OPQ
`;

module.exports = { NANOPQ_STAND_IN };
