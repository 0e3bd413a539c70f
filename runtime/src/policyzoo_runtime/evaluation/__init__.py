"""Evaluating a policy: in a simulator (`sim`, behind `policyzoo eval`) and on a real robot with an operator
marking each episode (`real`, behind `policyzoo deploy --eval.*`)."""
