-- A citizen's reply is stored as a 'reply' message coming in ('in'); everything we send goes out ('out').
alter table messages add column direction text not null default 'out';
