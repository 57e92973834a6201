"""The Gymnasium and PettingZoo faces of PersonaGym."""
