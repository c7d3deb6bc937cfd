"""The learner service: validate, predict, score, learn, snapshot."""
