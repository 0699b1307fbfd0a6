-- Contact details of people an enter/exit event is about, members or not (someone who left a
-- segment is no longer in segment_membership but still a person).
select person_id, email, phone
from {models_schema}.dim_person
where person_id in :person_ids
