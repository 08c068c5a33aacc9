"""Safety incidents: reported from the field with photos and people involved, alerted to supervisors and the
safety role (critical ones at once, through quiet hours), and moved through their lifecycle with every step kept."""
