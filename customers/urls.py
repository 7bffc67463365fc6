staff_patterns: list = []
portal_patterns: list = []
api_patterns: list = []
